"""Payout statements for the staff."""
