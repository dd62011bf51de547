"""S3: buckets and objects, durable on disk."""
