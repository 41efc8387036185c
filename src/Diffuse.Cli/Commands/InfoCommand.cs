using Diffuse.Models.Convolutions;

namespace Diffuse.Cli.Commands;

public sealed class InfoCommand : ICommand
{
    public string Name => "info";
    public string Summary => "show the TorchSharp / libtorch build in use and how convolutions run";
    public string Help => "diffuse info\n\nPrints the TorchSharp version, libtorch thread count and whether CUDA is available, and the route the\n" +
                          "convolution self-check chose on this CPU (oneDNN, oneDNN with channels padded to 16, or oneDNN off).";

    public int Run(string[] args, TextWriter output)
    {
        Args.Parse(Name, args, [], []);
        output.WriteLine(TorchInfo.Describe());
        output.WriteLine($"convolutions: {Convolution.Describe()}");
        return Cli.Ok;
    }
}
