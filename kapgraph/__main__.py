from kapgraph.cli import main

main()
