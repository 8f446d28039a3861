"""What the bot says: task cards and lines, buttons, report summaries — wording shared by the replies in handlers/ and the pushes in jobs/."""
