"""legato.api"""
