"""legato.runtime"""
