"""finops-xl template workbooks: a layout model, its writers (openpyxl file, live xlwings book) and
the template builders. Builders lay out numbers that ``finops_xl`` computes; they hold no finance
logic of their own."""
