"""Admin tasks and the Bad Fit list (DESIGN.md, "Admin tasks", "Bad Fit")."""
