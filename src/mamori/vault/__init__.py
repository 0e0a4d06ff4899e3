"""The personal-data vault: encrypted items released only for allowed, unstopped purposes."""
