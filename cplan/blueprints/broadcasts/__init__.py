"""Broadcast SMS: compose from a DLT template, preview, approve, follow delivery."""
