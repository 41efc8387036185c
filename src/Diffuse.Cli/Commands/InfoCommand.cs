namespace Diffuse.Cli.Commands;

public sealed class InfoCommand : ICommand
{
    public string Name => "info";
    public string Summary => "show the TorchSharp / libtorch build in use";
    public string Help => "diffuse info\n\nPrints the TorchSharp version, libtorch thread count and whether CUDA is available.";

    public int Run(string[] args, TextWriter output)
    {
        Args.Parse(Name, args, [], []);
        output.WriteLine(TorchInfo.Describe());
        return Cli.Ok;
    }
}
