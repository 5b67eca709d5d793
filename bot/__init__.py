"""민원 챗봇: the gateway and everything the processes share."""
