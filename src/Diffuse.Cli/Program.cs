using System.CommandLine;
using System.CommandLine.Invocation;
using Diffuse;
using Diffuse.Cli;

Interrupt.Install();
return Cli.Run(args);

namespace Diffuse.Cli
{
    /// <summary>
    /// The <c>diffuse</c> tool: a thin shell over the library, one file per command. The whole command line is parsed and
    /// checked (System.CommandLine) before any command runs; errors are one line on standard error.
    /// </summary>
    public static class Cli
    {
        public const int Ok = 0, Failure = 1, Usage = 2, Interrupted = 130;

        static readonly ParserConfiguration Parser = new() { ResponseFileTokenReplacer = null };

        /// <summary>Output to the given writers; exceptions reach <see cref="Run"/> (one line each); Ctrl-C is the commands' own.</summary>
        static InvocationConfiguration Invocation(TextWriter output, TextWriter errors) =>
            new() { Output = output, Error = errors, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };

        public static int Run(string[] argv, TextWriter? stdout = null, TextWriter? stderr = null)
        {
            var output = stdout ?? Console.Out;
            var errors = stderr ?? Console.Error;
            var compute = new ComputeOptions();
            var root = CommandTree.Build(compute);
            var result = root.Parse(CommandTree.Normalize(argv), Parser);
            if (result.Errors.Count > 0 && result.Action is not CommandTree.Help)
            {
                TryWriteLine(errors, $"error: {CommandTree.Describe(result)}");
                return Usage;
            }
            int? previousThreads = null;
            ConfigKeyFlags.Command = result.CommandResult.Command.Name;
            var created = CreatedFolders.Before(result);
            int code = Failure;
            try
            {
                return code = RunParsed(result, compute, output, errors, ref previousThreads);
            }
            finally
            {
                // A failed or interrupted command leaves no empty folder of its own making behind.
                if (code != Ok) created.RemoveEmpty();
                // In-process callers (the tests) get libtorch's thread count back.
                if (previousThreads is { } n) TorchSharp.torch.set_num_threads(n);
            }
        }

        static int RunParsed(ParseResult result, ComputeOptions compute, TextWriter output, TextWriter errors, ref int? previousThreads)
        {
            try
            {
                if (result.Action is CommandTree.Help or CommandTree.VersionAction) return result.Invoke(Invocation(output, errors));
                // Checks of option combinations run on the finished parse, before the command starts any work.
                if (result.CommandResult.Command is DiffuseCommand command) command.Check(result);
                previousThreads = compute.Apply(result);
                return result.Invoke(Invocation(output, errors));
            }
            catch (UsageException e)
            {
                TryWriteLine(errors, $"error: {e.Message}");
                return Usage;
            }
            catch (DiffuseException e)
            {
                TryWriteLine(errors, $"error: {ConfigKeyFlags.Message(e)}");
                // An output that needs --force is refused as the CLI's own checks refuse one: a usage error in every command.
                return e.IsRefusal ? Usage : Failure;
            }
            catch (OperationCanceledException)
            {
                TryWriteLine(errors, "interrupted: nothing was written");
                return Interrupted;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                TryWriteLine(errors, $"error: {FirstLine(e.Message)}");
                return Failure;
            }
            catch (Exception e) when (Environment.GetEnvironmentVariable("DIFFUSE_STACK_TRACES") is not "1")
            {
                // A bug, not a problem of the input: still one line, never a stack trace; DIFFUSE_STACK_TRACES=1 lets it through.
                TryWriteLine(errors, $"error: internal error ({e.GetType().Name}): {FirstLine(e.Message)}; please report it (DIFFUSE_STACK_TRACES=1 shows where)");
                return Failure;
            }
        }

        static string FirstLine(string message) => message.Split('\n')[0].TrimEnd('\r');

        /// <summary>Writes a line where standard error may itself be closed or full: then the exit code is all that is left.</summary>
        static void TryWriteLine(TextWriter writer, string line)
        {
            try
            {
                writer.WriteLine(line);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
            }
        }
    }
}
