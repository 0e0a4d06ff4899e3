"""The register of breaches (漏えい等, APPI 法26, 規則7-10): incidents, whether each must be
reported to the PPC and by when, the people affected, the report draft of 規則8, the notices to
the people and the reminders to the staff member responsible."""
