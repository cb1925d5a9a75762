#!/usr/bin/env python
from galleria.__main__ import main

if __name__ == "__main__":
    main()
