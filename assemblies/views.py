def proxy(request, pk):
    pass
