"""The surveys app's pages, one module per area; surveys.urls imports each module.

respond       a survey or poll by its public link, its thank-you page, a community's home
              and privacy page
invitations   personal links from emails, one-click unsubscribe
kiosk         the kiosk page, its JSON answers and its service worker
results       staff: the survey list and a survey's results
builder       staff: the survey builder
distribution  staff: email sends, their progress, kiosks
"""
