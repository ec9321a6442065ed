"""Email: messages and their limits (`message`), the outbox every email goes through
(`outbox`), and delivery by SMTP (`smtp`). See docs/mail.md."""
