"""document-qa-service: questions over your own documents, with citations, behind KServe."""
