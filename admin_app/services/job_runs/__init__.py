"""Long work in the background with its progress: the `job_run` rows (`runs`)."""
