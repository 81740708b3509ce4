from servicekpi.cli.app import main

main()
