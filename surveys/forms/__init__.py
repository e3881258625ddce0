"""The surveys app's forms, one module per area.

respond       the respondent's form, built from a survey's Question rows
builder       staff: a new survey, a survey's settings, one question
distribution  staff: an email send, a kiosk registration
"""
