"""What anyone may open: the start page, the privacy policy and its versions, the cookie
banner's assets and forms, and the mail opt-out pages."""
