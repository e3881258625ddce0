"""The responses behind a figure: a staff list of the responses a dashboard or results
figure was computed from, under the same minimum-group-size rules."""
