"""Media: checking, cleaning and resizing uploaded files (photos of complaints, permit documents)."""
