using System.Runtime.CompilerServices;

// The npm package parser is tested on tiny synthetic packages through its internal Spec.
[assembly: InternalsVisibleTo("Diffuse.Tests")]
