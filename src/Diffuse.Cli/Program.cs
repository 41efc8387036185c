using System.CommandLine;
using System.CommandLine.Invocation;
using Diffuse;
using Diffuse.Cli;

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
                errors.WriteLine($"error: {CommandTree.Describe(result)}");
                return Usage;
            }
            int? previousThreads = null;
            ConfigKeyFlags.Command = result.CommandResult.Command.Name;
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
                errors.WriteLine($"error: {e.Message}");
                return Usage;
            }
            catch (DiffuseException e)
            {
                errors.WriteLine($"error: {ConfigKeyFlags.Message(e)}");
                return Failure;
            }
            catch (OperationCanceledException)
            {
                errors.WriteLine("interrupted: nothing was written");
                return Interrupted;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.WriteLine($"error: {e.Message.Split('\n')[0]}");
                return Failure;
            }
            finally
            {
                // In-process callers (the tests) get libtorch's thread count back.
                if (previousThreads is { } n) TorchSharp.torch.set_num_threads(n);
            }
        }
    }
}
