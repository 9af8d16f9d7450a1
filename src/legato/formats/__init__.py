"""legato.formats"""
