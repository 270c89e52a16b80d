"""``python -m tutorial bench``: what signals cost, measured on this machine.

``command`` runs the measurements and writes the tables; ``comments`` times a comment's
email against a real SMTP server. The measurements that run inside a step live in
tutorial.in_step.measurements, beside the rest of what runs in there.
"""
