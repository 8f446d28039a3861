"""Scheduled work: each job asks the database what is due at the given moment."""
