using System.CommandLine;
using System.CommandLine.Help;
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

        public static int Run(string[] argv, TextWriter? stdout = null, TextWriter? stderr = null)
        {
            var output = stdout ?? Console.Out;
            var errors = stderr ?? Console.Error;
            var compute = new ComputeOptions();
            var root = CommandTree.Build(compute);
            var result = root.Parse(CommandTree.Normalize(argv), Parser);
            if (result.Errors.Count > 0 && result.Action is not HelpAction)
            {
                errors.WriteLine($"error: {CommandTree.Describe(result)}");
                return Usage;
            }
            int? previousThreads = null;
            try
            {
                if (result.Action is not (HelpAction or CommandTree.VersionAction)) previousThreads = compute.Apply(result);
                var invocation = new InvocationConfiguration { Output = output, Error = errors, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
                return result.Invoke(invocation);
            }
            catch (UsageException e)
            {
                errors.WriteLine($"error: {e.Message}");
                return Usage;
            }
            catch (DiffuseException e)
            {
                errors.WriteLine($"error: {e.Message}");
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
