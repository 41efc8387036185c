namespace Diffuse.Cli;

/// <summary>A command of the old parser (<see cref="Args"/>), run with its tokens passed through until it is ported.</summary>
public interface ICommand
{
    string Name { get; }
    string Summary { get; }
    string Help { get; }
    int Run(string[] args, TextWriter output);
}
