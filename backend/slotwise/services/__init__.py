"""Services: one operation each, one transaction each; they raise ServiceError subclasses."""
