using System.CommandLine;
using Diffuse.Models.Convolutions;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse info</c>: the TorchSharp / libtorch build in use and the route convolutions take.</summary>
public sealed class InfoCommand : DiffuseCommand
{
    public InfoCommand() : base("info", """
        show the TorchSharp / libtorch build in use and how convolutions run

        Prints the TorchSharp version, libtorch thread count and whether CUDA is available, and the route the convolution
        self-check chose on this CPU (oneDNN, oneDNN with channels padded to 16, or oneDNN off).
        """)
    {
        SetAction(result =>
        {
            result.Output().WriteLine(TorchInfo.Describe());
            result.Output().WriteLine($"convolutions: {Convolution.Describe()}");
            return Cli.Ok;
        });
    }
}
