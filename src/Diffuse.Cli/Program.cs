using Diffuse;
using Diffuse.Cli;
using Diffuse.Cli.Commands;

return Cli.Run(args);

namespace Diffuse.Cli
{
    /// <summary>The <c>diffuse</c> tool: a thin shell over the library, one file per command.</summary>
    public static class Cli
    {
        public const int Ok = 0, Failure = 1, Usage = 2, Interrupted = 130;

        static readonly ICommand[] Commands =
        [
            new DemoCommand(), new TrainCommand(), new SampleCommand(), new EvalCommand(), new ExportCommand(), new TrainClassifierCommand(), new InpaintCommand(), new OutpaintCommand(), new Img2ImgCommand(), new UpscaleCommand(), new SamplersCommand(), new InfoCommand(),
        ];

        public static int Run(string[] argv, TextWriter? stdout = null, TextWriter? stderr = null)
        {
            var output = stdout ?? Console.Out;
            var errors = stderr ?? Console.Error;
            if (argv.Length == 0 || argv[0] is "--help" or "-h" or "help")
            {
                PrintHelp(output);
                return argv.Length == 0 ? Usage : Ok;
            }
            var command = Commands.FirstOrDefault(c => c.Name == argv[0]);
            if (command is null)
            {
                errors.WriteLine($"error: unknown command '{argv[0]}'; commands: {string.Join(", ", Commands.Select(c => c.Name))}");
                return Usage;
            }
            var rest = argv.Skip(1).ToArray();
            if (rest.Contains("--help") || rest.Contains("-h"))
            {
                output.WriteLine(command.Help);
                output.WriteLine("every command:");
                output.WriteLine(ComputeOptions.Help);
                return Ok;
            }
            int? previousThreads = null;
            try
            {
                var (commandArgs, threads, device) = ComputeOptions.Extract(rest);
                if (threads is not null) previousThreads = TorchSharp.torch.get_num_threads();
                ComputeOptions.Apply(threads, device);
                return command.Run(commandArgs, output);
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

        static void PrintHelp(TextWriter output)
        {
            output.WriteLine("diffuse: train, sample and evaluate diffusion models (TorchSharp)");
            output.WriteLine();
            output.WriteLine("usage: diffuse <command> [options]   (diffuse <command> --help for its options)");
            output.WriteLine();
            foreach (var c in Commands) output.WriteLine($"  {c.Name,-10} {c.Summary}");
            output.WriteLine();
            output.WriteLine("options of every command:");
            output.WriteLine(ComputeOptions.Help);
        }
    }

    /// <summary>One CLI command.</summary>
    public interface ICommand
    {
        string Name { get; }
        string Summary { get; }
        string Help { get; }
        int Run(string[] args, TextWriter output);
    }
}
