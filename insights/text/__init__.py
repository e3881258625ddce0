"""Text answers to read: a filtered list with keywords highlighted, and the top terms per
period and per segment, under the minimum group size."""
