"""The Discord front end of the matcher: slash commands, match buttons and the weekly digest.

Everything that is not Discord lives in `matcher`; this package only talks to Discord.
"""
