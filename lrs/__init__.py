"""xAPI Learning Record Store: resources, validation, auth and storage."""
