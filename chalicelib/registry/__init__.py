"""OCI distribution: routing grammar, blobs, uploads, manifests, tags, referrers, catalog."""
