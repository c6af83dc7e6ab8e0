"""Retention: schedule rules, legal holds and the disposition workflow (ระเบียบงานสารบรรณ
ข้อ 66–70). ``schedules`` is the part the rest of the core needs (the schedule of every record,
tombstones); the rest of the core never imports the workflow modules beside it."""
