"""Structure sets that several tasks share, each with its rule or provenance beside it."""
