import java.io.File;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.*;
import org.semanticweb.owlapi.profiles.*;
// The OWL API's OWL 2 DL profile checker over one RDF file: one line per violation, then the count.
// Compiled and run by tests/test_owl_profile.py (Debian: libowlapi-java, default-jdk-headless).
public class OwlProfile {
  public static void main(String[] args) throws Exception {
    OWLOntologyManager m = OWLManager.createOWLOntologyManager();
    OWLOntology o = m.loadOntologyFromOntologyDocument(new File(args[0]));
    OWLProfileReport r = new OWL2DLProfile().checkOntology(o);
    for (OWLProfileViolation v : r.getViolations()) System.out.println("VIOLATION\t" + v.getClass().getSimpleName() + "\t" + String.valueOf(v).replace('\n', ' '));
    System.out.println("VIOLATIONS " + r.getViolations().size());
  }
}
