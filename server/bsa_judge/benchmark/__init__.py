"""The benchmark's own vocabulary: items, scenarios, labels, statuses."""
