"""Photos from the scene (现场照片): upload, validation, evidence metadata, storage and serving."""
