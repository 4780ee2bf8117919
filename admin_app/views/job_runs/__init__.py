"""Screens of the runs in the background: a run's page with its progress bar (`runs`), how a screen
starts one (`start`), and what each kind's result says (`results`)."""
