"""The staff's survey screens: invitations, responses (read-only) and the results page with the send form.

`cells` formats what the lists show, `filters` narrows them, one module per screen holds its view.
"""
