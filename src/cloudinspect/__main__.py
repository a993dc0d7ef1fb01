from cloudinspect.cli import main

main()
