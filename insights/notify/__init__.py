"""Staff notifications by email: a case assigned or overdue, threshold alerts per store,
daily or weekly digests and the weekly report. Each beat task finds what is due and
writes outbox rows whose idempotency keys name what they are about, so a task run twice,
or two beat processes, never email anyone twice."""
