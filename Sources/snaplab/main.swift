import SnaplabCommands

await SnaplabCommand.runFromCommandLine()
