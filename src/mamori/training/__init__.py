"""Training records (社員教育, APPI GL 通則編 10 human measures): courses, who completed which
when, and who is overdue."""
