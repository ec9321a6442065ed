"""Uploaded files: reading Bubble's upload object (`uploads`) and keeping the bytes (`store`)."""
