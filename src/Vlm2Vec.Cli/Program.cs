using Vlm2Vec.Cli;

using var interrupt = new ConsoleInterruptHandler(Console.Error);
return await CliApplication.RunAsync(args, CliEnvironment.FromProcess(), interrupt.Token).ConfigureAwait(false);
