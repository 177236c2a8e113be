"""The audit trail page: events of the signed-in post's jurisdiction, filtered and paged."""
