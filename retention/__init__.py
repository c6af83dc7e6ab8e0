"""Retention: schedule rules, legal holds and the disposition workflow (ระเบียบงานสารบรรณ
ข้อ 66–70). Imports the core (``archive``); the core never imports this package."""
