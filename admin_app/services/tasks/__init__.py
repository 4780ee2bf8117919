"""tasks: the admin tasks the periodic scan writes, the Bad Fit list, therapists' client requests."""
